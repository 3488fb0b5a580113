<?php

declare(strict_types=1);

namespace Tenantstack\App;

/**
 * GET /healthz: 200 only when the application user can log in over TLS and the database's
 * schema is at the version this image expects; 503 with a client-safe reason otherwise.
 *
 * The ALB target group asks this URL; a new task whose database the app cannot use never
 * becomes healthy, so the deploy never points the namespace at that database.
 * Bounded: 2 s to connect, 2 s per read; php-fpm's request_terminate_timeout (4 s) and
 * nginx's fastcgi_read_timeout (4.5 s) stop anything slower, all under the ALB's 5 s.
 */
final class Health
{
    public const CONNECT_TIMEOUT = 2;
    public const READ_TIMEOUT = 2;
    private const NO_SUCH_TABLE = 1146;

    /**
     * @return array{0: int, 1: array<string, int|string>} HTTP status and JSON body
     */
    public static function check(string $migrationsDirectory): array
    {
        $timestamp = Config::optional('DB_TIMESTAMP', '');
        try {
            $config = Config::fromEnvironment();
            $credentials = Credentials::fromEnvironment('DB_USERNAME', 'DB_PASSWORD');
            $expected = Migrations::load($migrationsDirectory)->latest();
        } catch (ConfigError $error) {
            return self::failure($timestamp, 'unreachable', 'configuration: ' . $error->getMessage());
        } catch (MigrationError $error) {
            return self::failure($timestamp, 'unreachable', 'image: ' . $error->getMessage());
        }

        try {
            $mysqli = Database::connect($config, $credentials, self::CONNECT_TIMEOUT, self::READ_TIMEOUT, $config->database);
        } catch (DatabaseError $error) {
            Log::error('healthz', $error->reason, ['error_code' => $error->errno, 'detail' => $error->detail]);

            return self::failure($timestamp, 'unreachable', $error->reason, $error->errno);
        }

        try {
            $actual = self::schemaVersion($mysqli);
            if ($config->tls && Database::tlsCipher($mysqli) === '') {
                return self::failure($timestamp, 'reachable', 'the database session is not encrypted although DB_TLS=on');
            }
        } catch (\mysqli_sql_exception $error) {
            $reason = $error->getCode() === self::NO_SUCH_TABLE
                ? sprintf('schema not migrated: no schema_migrations table in database %s', $config->database)
                : DatabaseError::reason($error->getCode(), $error->getMessage());
            Log::error('healthz', $reason, ['error_code' => $error->getCode(), 'detail' => $credentials->redact($error->getMessage())]);

            return self::failure($timestamp, 'reachable', $reason, $error->getCode());
        } finally {
            $mysqli->close();
        }

        if ($actual < $expected) {
            return self::failure($timestamp, 'reachable', sprintf('schema not migrated: at version %d, this image expects %d', $actual, $expected));
        }
        if ($actual > $expected) {
            return self::failure($timestamp, 'reachable', sprintf('schema ahead of this image: at version %d, this image expects %d', $actual, $expected));
        }

        return [200, ['status' => 'ok', 'database' => 'reachable', 'db_timestamp' => $timestamp, 'schema_version' => $actual]];
    }

    /** The highest applied migration version, 0 for an empty schema_migrations table. */
    private static function schemaVersion(\mysqli $mysqli): int
    {
        $row = $mysqli->query('SELECT COALESCE(MAX(version), 0) FROM schema_migrations')->fetch_row();

        return (int) $row[0];
    }

    /**
     * @return array{0: int, 1: array<string, int|string>}
     */
    private static function failure(string $timestamp, string $database, string $reason, int $errorCode = 0): array
    {
        $body = ['status' => 'error', 'database' => $database, 'reason' => $reason, 'db_timestamp' => $timestamp];
        if ($errorCode !== 0) {
            $body['error_code'] = $errorCode;
        }

        return [503, $body];
    }
}
