-- Sessions that end (console). A console token carries the user's token_version at sign-in; the
-- console refuses a token whose version differs from the row's. Logout everywhere, a password
-- change (own or reset by an admin) and disabling the user bump the version, so every token issued
-- before stops working at once, REST and socket.io alike (apps/console/src/auth).
ALTER TABLE console_users
  ADD COLUMN token_version integer NOT NULL DEFAULT 0;
