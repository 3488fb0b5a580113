-- Greetings per language; existing rows are English.
ALTER TABLE greetings ADD COLUMN locale CHAR(2) NOT NULL DEFAULT 'en' AFTER message;
