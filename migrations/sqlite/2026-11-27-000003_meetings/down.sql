DROP TABLE opinions;
DROP TABLE invitations;
DROP TABLE agenda_item_tags;
DROP TABLE agenda_items;
DROP TABLE meetings;
