<?php

declare(strict_types=1);

namespace Tenantstack\App;

/**
 * Opens mysqli sessions: over TLS with the server certificate verified against DB_SSL_CA
 * (unless DB_TLS=off), with bounded connect and read timeouts, errors as exceptions.
 */
final class Database
{
    /**
     * @param int $connectTimeout seconds for the TCP connect (MYSQLI_OPT_CONNECT_TIMEOUT)
     * @param int $readTimeout seconds one read may wait, greeting and TLS handshake included
     *                         (MYSQLI_OPT_READ_TIMEOUT); 0 keeps the driver's default
     * @throws DatabaseError with a client-safe reason; the password is never in it
     */
    public static function connect(
        Config $config,
        Credentials $credentials,
        int $connectTimeout,
        int $readTimeout,
        ?string $database = null,
    ): \mysqli {
        mysqli_report(MYSQLI_REPORT_ERROR | MYSQLI_REPORT_STRICT);
        $mysqli = mysqli_init();
        $mysqli->options(MYSQLI_OPT_CONNECT_TIMEOUT, $connectTimeout);
        if ($readTimeout > 0) {
            $mysqli->options(MYSQLI_OPT_READ_TIMEOUT, $readTimeout);
        }
        $flags = 0;
        if ($config->tls) {
            $mysqli->ssl_set(null, null, $config->sslCa, null, null);
            $mysqli->options(MYSQLI_OPT_SSL_VERIFY_SERVER_CERT, true);
            $flags |= MYSQLI_CLIENT_SSL;
        }
        try {
            // The driver also raises a PHP warning that repeats the error; the exception
            // carries it, so the warning is silenced rather than logged twice.
            @$mysqli->real_connect(
                $config->host,
                $credentials->user,
                $credentials->password,
                $database,
                $config->port,
                null,
                $flags,
            );
            $mysqli->set_charset('utf8mb4');
        } catch (\mysqli_sql_exception $error) {
            throw DatabaseError::fromDriver($error, $credentials);
        }

        return $mysqli;
    }

    /**
     * The TLS cipher of the session, '' when it is not encrypted.
     *
     * @throws \mysqli_sql_exception
     */
    public static function tlsCipher(\mysqli $mysqli): string
    {
        $row = $mysqli->query("SHOW SESSION STATUS LIKE 'Ssl_cipher'")->fetch_row();

        return $row === null ? '' : (string) $row[1];
    }

    /** `name` quoted as an identifier; callers pass names already checked against a pattern. */
    public static function identifier(string $name): string
    {
        return '`' . str_replace('`', '``', $name) . '`';
    }
}
