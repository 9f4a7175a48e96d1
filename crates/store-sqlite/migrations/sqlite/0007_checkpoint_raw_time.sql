-- The carrier's timestamp exactly as it sent it, beside the resolved UTC instant and local time,
-- so questions about a checkpoint's time zone can be answered from the data.
ALTER TABLE checkpoints ADD COLUMN raw_time TEXT NOT NULL DEFAULT '';
