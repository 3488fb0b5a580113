<?php

declare(strict_types=1);

namespace Tenantstack\App;

/**
 * bin/migrate: bring one database to the schema this image ships and (re-)key the
 * least-privilege application user, as the master user.
 *
 * Steps, one output line each: connect (TLS verified), take an advisory lock, create the
 * database if absent, create schema_migrations if absent, check what was applied (same
 * files, same checksums, nothing this image does not ship), apply the rest in order
 * (each recorded once it succeeded), create or re-key the application user with
 * SELECT, INSERT, UPDATE, DELETE on the app database only and REQUIRE SSL, check its
 * grants. Re-running applies nothing new and only re-keys the user.
 */
final class Migrator
{
    private const CONNECT_TIMEOUT = 10;
    private const LOCK_WAIT_SECONDS = 30;
    private const APP_PRIVILEGES = 'SELECT, INSERT, UPDATE, DELETE';
    /** Accounts the application user must never be: RDS's own and MySQL's. */
    private const RESERVED_USERS = ['root', 'rdsadmin', 'rdsrepladmin', 'mysql'];

    /** @var \Closure(string): void */
    private \Closure $say;

    public function __construct(
        private readonly Config $config,
        private readonly Credentials $master,
        private readonly Credentials $app,
        private readonly string $appHost,
        private readonly Migrations $migrations,
        callable $say,
    ) {
        if (strcasecmp($app->user, $master->user) === 0) {
            throw new ConfigError(sprintf('DB_USERNAME=%s is the master user: the application needs its own, least-privilege user', $app->user));
        }
        if (in_array(strtolower($app->user), self::RESERVED_USERS, true)) {
            throw new ConfigError(sprintf('DB_USERNAME=%s is a reserved account name', $app->user));
        }
        if (!preg_match('/^[A-Za-z0-9_.%:-]{1,255}$/', $appHost)) {
            throw new ConfigError(sprintf('DB_APP_USER_HOST=%s: must be a MySQL host pattern such as %% or 10.0.%%', $appHost));
        }
        $this->say = \Closure::fromCallable($say);
    }

    /**
     * @return int how many migrations were applied now
     * @throws DatabaseError|MigrationError
     */
    public function run(): int
    {
        $db = Database::connect($this->config, $this->master, self::CONNECT_TIMEOUT, 0);
        try {
            $this->step(sprintf(
                'connected to %s:%d as %s (TLS: %s)',
                $this->config->host,
                $this->config->port,
                $this->master->user,
                $this->config->tls ? $this->tlsDescription($db) : 'off, DB_TLS=off',
            ));
            $this->lock($db);
            $this->ensureDatabase($db);
            $this->ensureMigrationsTable($db);
            $pending = $this->pending($db);
            foreach ($pending as $migration) {
                $this->apply($db, $migration);
            }
            $this->ensureAppUser($db);
            $this->step(sprintf('done: database %s at schema version %d (%d applied now)', $this->config->database, $this->migrations->latest(), count($pending)));

            return count($pending);
        } catch (\mysqli_sql_exception $error) {
            throw DatabaseError::fromDriver($error, $this->master);
        } finally {
            $db->close();
        }
    }

    private function step(string $line): void
    {
        ($this->say)($line);
    }

    private function tlsDescription(\mysqli $db): string
    {
        $cipher = Database::tlsCipher($db);
        if ($cipher === '') {
            throw new MigrationError('the session is not encrypted although DB_TLS=on');
        }

        return sprintf('%s, server certificate verified against %s', $cipher, $this->config->sslCa);
    }

    /** One migration run per database at a time; the lock goes with the session. */
    private function lock(\mysqli $db): void
    {
        // MySQL lock names are at most 64 characters.
        $name = substr('tenantstack.migrate.' . $this->config->database, 0, 64);
        $statement = $db->prepare('SELECT GET_LOCK(?, ?)');
        $wait = self::LOCK_WAIT_SECONDS;
        $statement->bind_param('si', $name, $wait);
        $statement->execute();
        $got = $statement->get_result()->fetch_row()[0];
        if ((int) $got !== 1) {
            throw new MigrationError(sprintf('lock %s is held by another migration run (waited %d s)', $name, $wait));
        }
        $this->step(sprintf('lock %s taken', $name));
    }

    private function ensureDatabase(\mysqli $db): void
    {
        $statement = $db->prepare('SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?');
        $name = $this->config->database;
        $statement->bind_param('s', $name);
        $statement->execute();
        $exists = (int) $statement->get_result()->fetch_row()[0] === 1;
        if (!$exists) {
            $db->query(sprintf('CREATE DATABASE IF NOT EXISTS %s DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci', Database::identifier($name)));
        }
        $db->select_db($name);
        $this->step(sprintf('database %s %s', $name, $exists ? 'exists' : 'created'));
    }

    private function ensureMigrationsTable(\mysqli $db): void
    {
        $db->query(
            'CREATE TABLE IF NOT EXISTS schema_migrations ('
            . ' version INT UNSIGNED NOT NULL PRIMARY KEY,'
            . ' name VARCHAR(255) NOT NULL,'
            . ' checksum CHAR(64) NOT NULL,'
            . ' applied_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP'
            . ') ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci'
        );
        $this->step('table schema_migrations ready');
    }

    /**
     * The migrations not applied yet, after checking the applied ones against the files.
     *
     * @return list<Migration>
     */
    private function pending(\mysqli $db): array
    {
        $applied = [];
        foreach ($db->query('SELECT version, name, checksum FROM schema_migrations ORDER BY version')->fetch_all() as [$version, $name, $checksum]) {
            $applied[(int) $version] = [$name, $checksum];
        }
        $shipped = [];
        foreach ($this->migrations->migrations as $migration) {
            $shipped[$migration->version] = $migration;
        }
        foreach ($applied as $version => [$name, $checksum]) {
            if (!isset($shipped[$version])) {
                throw new MigrationError(sprintf('the database has migration %04d_%s, which this image does not ship: it is newer than the image', $version, $name));
            }
            if ($shipped[$version]->checksum() !== $checksum) {
                throw new MigrationError(sprintf('%s changed after it was applied (sha256 %s in schema_migrations): add a new migration instead of editing an applied one', $shipped[$version]->id(), $checksum));
            }
        }
        $pending = [];
        foreach ($shipped as $version => $migration) {
            if (isset($applied[$version])) {
                $this->step(sprintf('%s already applied', $migration->id()));
            } else {
                $pending[] = $migration;
            }
        }

        return $pending;
    }

    private function apply(\mysqli $db, Migration $migration): void
    {
        try {
            $db->multi_query($migration->sql());
            do {
                $result = $db->store_result();
                if ($result instanceof \mysqli_result) {
                    $result->free();
                }
            } while ($db->more_results() && $db->next_result());
        } catch (\mysqli_sql_exception $error) {
            throw new MigrationError(sprintf(
                '%s failed (error %d: %s); it is not recorded; statements before the failing one may have taken effect',
                $migration->id(),
                $error->getCode(),
                $error->getMessage(),
            ));
        }
        $statement = $db->prepare('INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)');
        $version = $migration->version;
        $name = $migration->name;
        $checksum = $migration->checksum();
        $statement->bind_param('iss', $version, $name, $checksum);
        $statement->execute();
        $this->step(sprintf('%s applied', $migration->id()));
    }

    /** Create or re-key the application user; it gets DML on the app database and nothing else. */
    private function ensureAppUser(\mysqli $db): void
    {
        $account = sprintf("'%s'@'%s'", $db->real_escape_string($this->app->user), $db->real_escape_string($this->appHost));
        $password = "'" . $db->real_escape_string($this->app->password) . "'";
        $require = $this->config->tls ? 'REQUIRE SSL' : 'REQUIRE NONE';
        $statement = $db->prepare('SELECT COUNT(*) FROM mysql.user WHERE User = ? AND Host = ?');
        $user = $this->app->user;
        $host = $this->appHost;
        $statement->bind_param('ss', $user, $host);
        $statement->execute();
        $exists = (int) $statement->get_result()->fetch_row()[0] > 0;
        try {
            $db->query(sprintf('CREATE USER IF NOT EXISTS %s IDENTIFIED BY %s %s', $account, $password, $require));
            $db->query(sprintf('ALTER USER %s IDENTIFIED BY %s %s', $account, $password, $require));
            $db->query(sprintf('REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s', $account));
            $db->query(sprintf('GRANT %s ON %s.* TO %s', self::APP_PRIVILEGES, Database::identifier($this->config->database), $account));
        } catch (\mysqli_sql_exception $error) {
            // A server message may quote the statement: remove the password as sent (escaped) and as is.
            $message = $this->app->redact(str_replace(substr($password, 1, -1), '[redacted]', $error->getMessage()));
            throw new MigrationError(sprintf('application user %s: error %d: %s', $account, $error->getCode(), $message));
        }
        $this->checkGrants($db, $account);
        $this->step(sprintf(
            'application user %s %s: %s on %s.* only, %s',
            $account,
            $exists ? 're-keyed' : 'created',
            self::APP_PRIVILEGES,
            Database::identifier($this->config->database),
            $require,
        ));
    }

    /** Fails when the user holds anything besides USAGE and the app grant (a role, say). */
    private function checkGrants(\mysqli $db, string $account): void
    {
        $expected = sprintf('GRANT %s ON %s.* TO ', self::APP_PRIVILEGES, Database::identifier($this->config->database));
        $extra = [];
        foreach ($db->query('SHOW GRANTS FOR ' . $account)->fetch_all() as [$grant]) {
            if (str_starts_with($grant, 'GRANT USAGE ON *.* TO ') || str_starts_with($grant, $expected)) {
                continue;
            }
            $extra[] = preg_replace("/IDENTIFIED BY PASSWORD '[^']*'/", 'IDENTIFIED BY PASSWORD [redacted]', $grant);
        }
        if ($extra !== []) {
            throw new MigrationError(sprintf('application user %s still has other grants: %s', $account, implode('; ', $extra)));
        }
    }
}
