<?php

declare(strict_types=1);

namespace Tenantstack\App;

/**
 * A database user name and password from two environment variables.
 *
 * The password is never printed: __debugInfo hides it from var_dump/print_r, and
 * redact() removes it from any text (an error message) before that text is shown.
 */
final class Credentials
{
    /** A MySQL user name the code can quote as it is (MySQL 8 allows up to 32 characters). */
    private const USER_NAME = '/^[A-Za-z0-9_]{1,32}$/';

    private function __construct(
        public readonly string $user,
        public readonly string $password,
    ) {
    }

    /**
     * @throws ConfigError when a variable is unset or the user name breaks the rule
     */
    public static function fromEnvironment(string $userVariable, string $passwordVariable): self
    {
        $user = Config::required($userVariable);
        if (!preg_match(self::USER_NAME, $user)) {
            throw new ConfigError(sprintf('%s=%s: must be 1-32 characters of A-Z a-z 0-9 _', $userVariable, $user));
        }

        return new self($user, Config::required($passwordVariable));
    }

    /** $text with every occurrence of the password replaced by [redacted]. */
    public function redact(string $text): string
    {
        return str_replace($this->password, '[redacted]', $text);
    }

    /** @return array<string, string> */
    public function __debugInfo(): array
    {
        return ['user' => $this->user, 'password' => '[redacted]'];
    }
}
