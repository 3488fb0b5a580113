<?php

declare(strict_types=1);

// The application's classes (no Composer: a handful of files, loaded in dependency order).
require_once __DIR__ . '/Errors.php';
require_once __DIR__ . '/Config.php';
require_once __DIR__ . '/Credentials.php';
require_once __DIR__ . '/Log.php';
require_once __DIR__ . '/Http.php';
require_once __DIR__ . '/Database.php';
require_once __DIR__ . '/Migrations.php';
require_once __DIR__ . '/Health.php';
require_once __DIR__ . '/Page.php';
require_once __DIR__ . '/Migrator.php';
