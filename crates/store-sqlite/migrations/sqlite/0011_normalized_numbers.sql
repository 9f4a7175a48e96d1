-- Tracking numbers are stored in their normalized form from this version on: separators removed,
-- letters upper-cased (parceld_model::TrackingNumber::parse; docs/carriers.md, "Numbers as written
-- and as stored"). Numbers stored before could also hold `-` and lower case, the only other
-- characters they were allowed; bring them to that form, since every lookup by number now
-- normalizes what it is given. A number whose normalized form another tracking of the same account
-- and courier already has keeps its old form (UPDATE OR IGNORE skips it): it stays reachable by id.
UPDATE OR IGNORE trackings
SET tracking_number = upper(replace(tracking_number, '-', ''))
WHERE tracking_number <> upper(replace(tracking_number, '-', ''));
