<?php

declare(strict_types=1);

namespace Tenantstack\App;

/**
 * Where the database is and how to reach it, read from the environment
 * (docs/application.md, "Environment variables").
 *
 * Values are read with getenv($name, true): the process environment only, never a
 * FastCGI parameter, so a request cannot supply DB_HOST.
 */
final class Config
{
    public const DEFAULT_PORT = 3306;
    public const DEFAULT_DATABASE = 'app';
    public const DEFAULT_SSL_CA = '/etc/ssl/certs/rds-global-bundle.pem';

    /** A database name the code can put between backticks as it is. */
    private const DATABASE_NAME = '/^[A-Za-z0-9_]{1,64}$/';

    public function __construct(
        public readonly string $host,
        public readonly int $port,
        public readonly string $database,
        public readonly bool $tls,
        public readonly string $sslCa,
        public readonly string $dbTimestamp,
    ) {
    }

    /**
     * @throws ConfigError naming the variable and the rule it breaks
     */
    public static function fromEnvironment(): self
    {
        $tls = self::tlsSwitch(self::optional('DB_TLS', 'on'));
        $sslCa = self::optional('DB_SSL_CA', self::DEFAULT_SSL_CA);
        if ($tls && !is_readable($sslCa)) {
            throw new ConfigError(sprintf('DB_SSL_CA=%s is not a readable file (the CA bundle that signs the database certificate)', $sslCa));
        }

        return new self(
            self::required('DB_HOST'),
            self::port(self::optional('DB_PORT', (string) self::DEFAULT_PORT)),
            self::databaseName(self::optional('DB_NAME', self::DEFAULT_DATABASE)),
            $tls,
            $sslCa,
            self::optional('DB_TIMESTAMP', ''),
        );
    }

    /** The value of a variable that must be set and not empty. */
    public static function required(string $name): string
    {
        $value = getenv($name, true);
        if ($value === false || $value === '') {
            throw new ConfigError(sprintf('%s is not set', $name));
        }

        return $value;
    }

    /** The value of a variable, or $default when it is unset or empty. */
    public static function optional(string $name, string $default): string
    {
        $value = getenv($name, true);

        return ($value === false || $value === '') ? $default : $value;
    }

    private static function tlsSwitch(string $value): bool
    {
        return match ($value) {
            'on' => true,
            'off' => false,
            default => throw new ConfigError(sprintf("DB_TLS=%s: must be 'on' (the default) or 'off'", $value)),
        };
    }

    private static function port(string $value): int
    {
        if (!preg_match('/^[0-9]{1,5}$/', $value) || (int) $value < 1 || (int) $value > 65535) {
            throw new ConfigError(sprintf('DB_PORT=%s: must be a TCP port number (1-65535)', $value));
        }

        return (int) $value;
    }

    private static function databaseName(string $value): string
    {
        if (!preg_match(self::DATABASE_NAME, $value)) {
            throw new ConfigError(sprintf('DB_NAME=%s: must be 1-64 characters of A-Z a-z 0-9 _', $value));
        }

        return $value;
    }
}
