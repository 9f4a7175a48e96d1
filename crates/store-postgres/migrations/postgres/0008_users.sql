-- The dashboard's users and their sessions (parceld_store::UserStore; the same as SQLite's
-- migration 0017).

-- A person of an account's team. E-mail addresses are unique on the server (lower case), so a
-- sign-in needs only the address. The password is an argon2id hash; failed sign-ins are counted
-- here so that a lock-out holds on every node.
CREATE TABLE users (
    id              bigserial   PRIMARY KEY,
    account_id      bigint      NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    email           text        NOT NULL UNIQUE,
    role            text        NOT NULL,
    password_hash   text        NOT NULL,
    failed_sign_ins integer     NOT NULL DEFAULT 0,
    locked_until    timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_by_account ON users (account_id, id);

-- A signed-in browser: the SHA-256 of its cookie's token (never the token), its CSRF token.
CREATE TABLE sessions (
    token_hash  text        PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX sessions_by_expiry ON sessions (expires_at);
