-- The withdrawn suggestions model's table (see 0011_drop_suggestion_dismissals.sql).
DROP TABLE IF EXISTS suggestion_dismissals;
