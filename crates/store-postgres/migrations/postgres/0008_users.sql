-- The dashboard's users and their sessions (parceld_store::UserStore; the same as SQLite's
-- migration 0017, with the account in every key as on every other table here, so that a
-- PostgreSQL sharded by account could hold them: docs/scaling.md).

-- A person of an account's team. E-mail addresses are unique on the server (lower case), so a
-- sign-in needs only the address: the unique index holds them unique per account, and creating a
-- user checks the other accounts under a lock on the address (store-postgres/src/users.rs). The
-- password is an argon2id hash; failed sign-ins are counted here so that a lock-out holds on
-- every node.
CREATE TABLE users (
    account_id      bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    id              bigserial,
    email           text        NOT NULL,
    role            text        NOT NULL,
    password_hash   text        NOT NULL,
    failed_sign_ins integer     NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, id),
    UNIQUE (account_id, email)
);
CREATE INDEX users_by_email ON users (email);
CREATE INDEX users_by_id ON users (id);

-- A signed-in browser: the SHA-256 of its cookie's token (never the token), its CSRF token.
CREATE TABLE sessions (
    account_id  bigint      NOT NULL,
    token_hash  text        NOT NULL,
    PRIMARY KEY (account_id, token_hash),
    user_id     bigint      NOT NULL,
    csrf_token  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    FOREIGN KEY (account_id, user_id) REFERENCES users (account_id, id) ON DELETE CASCADE
);
CREATE INDEX sessions_by_token ON sessions (token_hash);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
