-- What GET /cadres?party=jiusan&sort=-birth_date&limit=20 reads for the page.
SELECT * FROM cadres WHERE status = 'active' AND party = 'jiusan'
ORDER BY birth_date DESC, id DESC LIMIT 21;
