-- The suggestions model and its "cw dismiss" were withdrawn: their table goes with them
-- (its index goes with the table). What it held only hid suggestions no longer made.
DROP TABLE IF EXISTS suggestion_dismissals;
