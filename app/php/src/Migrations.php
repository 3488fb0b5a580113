<?php

declare(strict_types=1);

namespace Tenantstack\App;

/** One SQL file of the migrations directory: NNNN_name.sql. */
final class Migration
{
    public function __construct(
        public readonly int $version,
        public readonly string $name,
        public readonly string $path,
    ) {
    }

    /** The file name without .sql, e.g. 0001_create_greetings. */
    public function id(): string
    {
        return sprintf('%04d_%s', $this->version, $this->name);
    }

    /** SHA-256 of the file, recorded when it is applied so a later edit is noticed. */
    public function checksum(): string
    {
        return hash_file('sha256', $this->path);
    }

    public function sql(): string
    {
        $sql = file_get_contents($this->path);
        if ($sql === false || trim($sql) === '') {
            throw new MigrationError(sprintf('%s: cannot be read or is empty', $this->path));
        }

        return $sql;
    }
}

/**
 * The migrations an image ships, in order: versions 1, 2, ... N without gaps.
 *
 * The latest version is the schema version this image expects (GET /healthz compares it
 * with the database's); only file names are read for that.
 */
final class Migrations
{
    public const FILE_NAME = '/^([0-9]{4})_([a-z0-9_]+)\.sql$/';

    /** @param list<Migration> $migrations */
    private function __construct(public readonly array $migrations)
    {
    }

    /**
     * @throws MigrationError when a file name breaks the NNNN_name.sql rule or versions have gaps
     */
    public static function load(string $directory): self
    {
        $names = is_dir($directory) ? scandir($directory) : false;
        if ($names === false) {
            throw new MigrationError(sprintf('migrations directory %s cannot be read', $directory));
        }
        $migrations = [];
        foreach ($names as $name) {
            if ($name[0] === '.') {
                continue;
            }
            if (!preg_match(self::FILE_NAME, $name, $match)) {
                throw new MigrationError(sprintf('%s/%s: a migration file name must match NNNN_name.sql (lower-case name)', $directory, $name));
            }
            $migrations[] = new Migration((int) $match[1], $match[2], $directory . '/' . $name);
        }
        usort($migrations, static fn (Migration $a, Migration $b): int => $a->version <=> $b->version);
        foreach ($migrations as $index => $migration) {
            if ($migration->version !== $index + 1) {
                throw new MigrationError(sprintf('%s: expected version %04d here; versions run 0001, 0002, ... without gaps or repeats', $migration->path, $index + 1));
            }
        }

        return new self($migrations);
    }

    /** The version a fully migrated database is at (0 when there are no migrations). */
    public function latest(): int
    {
        return count($this->migrations);
    }
}
