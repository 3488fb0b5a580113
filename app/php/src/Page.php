<?php

declare(strict_types=1);

namespace Tenantstack\App;

/**
 * The front controller's one page: GET / shows the first greeting from the database, as
 * the application user. Any other path is 404 without touching the database.
 */
final class Page
{
    private const CONNECT_TIMEOUT = 2;
    private const READ_TIMEOUT = 3;

    public static function handle(string $requestUri): void
    {
        $path = parse_url($requestUri, PHP_URL_PATH);
        if ($path !== '/' && $path !== '/index.php') {
            Http::html(404, 'Not found', 'There is no page here.');

            return;
        }
        try {
            $greeting = self::greeting();
        } catch (ConfigError $error) {
            Log::error('page', 'configuration: ' . $error->getMessage());
            Http::html(503, 'Service unavailable', 'Please try again in a moment.');

            return;
        } catch (DatabaseError $error) {
            Log::error('page', $error->reason, ['error_code' => $error->errno, 'detail' => $error->detail]);
            Http::html(503, 'Service unavailable', 'Please try again in a moment.');

            return;
        }
        Http::html(200, Config::optional('APP_NAMESPACE', 'tenantstack'), $greeting);
    }

    /**
     * @throws ConfigError|DatabaseError
     */
    private static function greeting(): string
    {
        $config = Config::fromEnvironment();
        $credentials = Credentials::fromEnvironment('DB_USERNAME', 'DB_PASSWORD');
        $mysqli = Database::connect($config, $credentials, self::CONNECT_TIMEOUT, self::READ_TIMEOUT, $config->database);
        try {
            $row = $mysqli->query('SELECT message FROM greetings ORDER BY id LIMIT 1')->fetch_row();
        } catch (\mysqli_sql_exception $error) {
            throw DatabaseError::fromDriver($error, $credentials);
        } finally {
            $mysqli->close();
        }

        return $row === null ? '(no greeting yet)' : (string) $row[0];
    }
}
