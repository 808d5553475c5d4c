-- Rows of a historical file whose id was stored already with the same
-- values: neither inserted nor rejected.
ALTER TABLE historical_loads ADD COLUMN already_stored INTEGER NOT NULL DEFAULT 0;
