<?php

declare(strict_types=1);

// Front controller: nginx sends every path that is not a static file here.
require __DIR__ . '/../src/bootstrap.php';

Tenantstack\App\Page::handle($_SERVER['REQUEST_URI'] ?? '/');
