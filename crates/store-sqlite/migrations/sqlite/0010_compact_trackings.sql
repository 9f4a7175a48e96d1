-- Trackings take less room: ten million of them fit in 4 GB (docs/ARCHITECTURE.md, "Storage").
--
-- Nothing reads through these two indexes any more. Claims go by courier, through
-- trackings_due_by_courier (0006); look-ups by number use the unique (account_id,
-- tracking_number, courier_code) index, whose first two columns are all trackings_by_number held.
DROP INDEX trackings_due;
DROP INDEX trackings_by_number;

-- A tracking id is kept as its 16 bytes instead of its 32 hex characters, in the row and in the
-- unique index on it. The column keeps its declared TEXT type (changing it would rebuild the
-- table); SQLite stores a BLOB in it unchanged. The API still speaks the hex form: the store
-- converts at its edge.
UPDATE trackings SET id = unhex(id) WHERE typeof(id) = 'text';
