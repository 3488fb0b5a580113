<?php

declare(strict_types=1);

// GET /healthz (nginx maps the path to this script): the ALB target group's health check.
// 200 only when the application user can use the database at the schema version this
// image ships; 503 and a JSON reason otherwise (docs/application.md, "Health endpoint").
require __DIR__ . '/../src/bootstrap.php';

[$status, $body] = Tenantstack\App\Health::check(__DIR__ . '/../migrations');
Tenantstack\App\Http::json($status, $body);
