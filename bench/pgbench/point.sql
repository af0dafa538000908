-- What GET /cadres/{id} reads, without HTTP, authentication or JSON.
\set id random(1, :highest_id)
SELECT * FROM cadres WHERE id = :id;
