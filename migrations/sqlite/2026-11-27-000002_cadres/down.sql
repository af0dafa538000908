DROP TABLE profile_corrections;
DROP TABLE cadre_records;
DROP TABLE cadre_tags;
DROP TABLE cadres;
