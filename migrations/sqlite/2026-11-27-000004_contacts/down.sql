DROP TABLE follow_ups;
DROP TABLE talk_notes;
DROP TABLE talk_pairings;
DROP TABLE talks;
DROP TABLE campaigns;
DROP TABLE pairings;
DROP TABLE terms;
DROP TABLE notifications;
