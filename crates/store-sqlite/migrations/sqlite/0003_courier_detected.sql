-- Whether the courier was detected from the number's format rather than given by the client.
ALTER TABLE trackings ADD COLUMN courier_detected INTEGER NOT NULL DEFAULT 0;
