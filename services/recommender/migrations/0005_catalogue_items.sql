-- Catalogue items loaded from files (MovieLens films, a generic item CSV) live beside the
-- generated events: they have no venue, and may have no city, genre or start time (an item
-- without a start time is always recommendable; one without a city never passes a city filter).
ALTER TABLE events
    ALTER COLUMN city DROP NOT NULL,
    ALTER COLUMN venue DROP NOT NULL,
    ALTER COLUMN genre DROP NOT NULL,
    ALTER COLUMN starts_at DROP NOT NULL;
