-- Vigil store schema version marker. Feature tables come in later migrations.
CREATE TABLE IF NOT EXISTS vigil_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
