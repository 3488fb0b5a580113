<?php

declare(strict_types=1);

namespace Tenantstack\App;

/**
 * Application log lines: one JSON object per line on stderr. php-fpm collects a worker's
 * stderr (catch_workers_output) and writes it undecorated to its own stderr, which the
 * container's log driver ships (docs/application.md, "Logs").
 */
final class Log
{
    /** @param array<string, int|string> $fields */
    public static function error(string $event, string $message, array $fields = []): void
    {
        self::write('error', $event, $message, $fields);
    }

    /** @param array<string, int|string> $fields */
    private static function write(string $level, string $event, string $message, array $fields): void
    {
        $line = ['time' => gmdate('Y-m-d\TH:i:s\Z'), 'level' => $level, 'event' => $event, 'message' => $message] + $fields;
        file_put_contents('php://stderr', json_encode($line, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE) . "\n");
    }
}
