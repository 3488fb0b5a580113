<?php

declare(strict_types=1);

namespace Tenantstack\App;

/** Response helpers for the front controller and the health endpoint. */
final class Http
{
    /** @param array<string, int|string> $body */
    public static function json(int $status, array $body): void
    {
        http_response_code($status);
        header('Content-Type: application/json');
        header('Cache-Control: no-store');
        echo json_encode($body, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE), "\n";
    }

    public static function html(int $status, string $title, string $body): void
    {
        http_response_code($status);
        header('Content-Type: text/html; charset=utf-8');
        printf(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body><h1>%s</h1>\n<p>%s</p></body></html>\n",
            self::escape($title),
            self::escape($title),
            self::escape($body),
        );
    }

    public static function escape(string $text): string
    {
        return htmlspecialchars($text, ENT_QUOTES | ENT_HTML5, 'UTF-8');
    }
}
