<?php

declare(strict_types=1);

namespace Tenantstack\App;

/** A missing or invalid environment variable; the message names it and the rule. */
final class ConfigError extends \RuntimeException
{
}

/** A migrations directory or migration run that cannot go on; the message says why. */
final class MigrationError extends \RuntimeException
{
}

/**
 * A database call that failed, classified for a caller that must not show the raw error.
 *
 * $reason is a short, fixed phrase safe to return to any client ("access denied",
 * "database unreachable", ...); $detail is the driver's message with the password
 * removed, for the log only.
 */
final class DatabaseError extends \RuntimeException
{
    /** MySQL/MariaDB server and client error numbers, by what they mean for the caller. */
    private const ACCESS_DENIED = [1044, 1045, 1698];
    /** MySQL's ER_SECURE_TRANSPORT_REQUIRED (MariaDB answers 1045 instead). */
    private const TLS_REQUIRED = [3159];
    private const UNREACHABLE = [2002, 2003, 2005, 2006, 2013, 2055];
    private const TLS_FAILED = 2026;
    /** Words in a client error that mean the TLS handshake or the certificate check failed. */
    private const TLS_WORDS = '/\b(ssl|tls|certificate|crypto)\b/i';

    public function __construct(
        public readonly string $reason,
        public readonly int $errno,
        public readonly string $detail,
    ) {
        parent::__construct($reason, $errno);
    }

    public static function fromDriver(\mysqli_sql_exception $error, Credentials $credentials): self
    {
        $detail = $credentials->redact($error->getMessage());

        return new self(self::reason($error->getCode(), $detail), $error->getCode(), $detail);
    }

    /** The client-safe phrase for a MySQL error number and its message. */
    public static function reason(int $errno, string $message): string
    {
        if (in_array($errno, self::ACCESS_DENIED, true)) {
            return 'access denied';
        }
        if (in_array($errno, self::TLS_REQUIRED, true)) {
            return 'the database requires TLS';
        }
        if ($errno === self::TLS_FAILED || (in_array($errno, self::UNREACHABLE, true) && preg_match(self::TLS_WORDS, $message))) {
            return 'TLS to the database failed';
        }
        if (in_array($errno, self::UNREACHABLE, true)) {
            return 'database unreachable';
        }

        return 'database error';
    }
}
