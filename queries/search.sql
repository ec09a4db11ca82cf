-- title: Zoeken in afspraken, documenten, thema's en partners / Search agreements, documents, themes and partners
-- description: Zoekt in de tekst van alle tabellen, zoals het zoekveld bovenaan elke pagina. Accenten tellen niet mee
--   (geinformeerd vindt geïnformeerd) en een woord mag een begin zijn (huurder vindt huurders). Van elke tabel tellen
--   de eerste 30 treffers mee; rijen met de woorden in hun naam staan bovenaan. — Searches the text of every table,
--   like the search box at the top of every page. Accents are ignored and a word may be a prefix. The first 30
--   matches of each table count; rows with the words in their name come first.
-- params:
-- - q
-- labels:
--   kind: Soort
--   snippet: Fragment
--   link: Link
with
-- The build's site search index (loaders/site_search.py), bounded: site_search_query() turns the words into whole
-- words of the index, and each table's entries (a rowid range) give at most 30 candidates, so a common word costs
-- no more than a rare one; rank and snippet are those of /-/zoeken (loaders/search_match.py).
words(q) as (select site_search_query(:q)),
candidates(entry) as materialized (
  select h.value from site_search_tables t, json_each((
    select json_group_array(rowid) from (
      select rowid from site_search
      where site_search match (select q from words) and rowid between t.first_rowid and t.last_rowid
      limit 30))) h
),
best(entry, score) as materialized (
  select c.entry, site_search_rank(:q, s.label) from candidates c
  cross join site_search s on s.rowid = c.entry  -- each candidate looked up, not every entry scanned
  order by 2, 1
  limit 200
)
select t.title as kind, s.label as title, site_search_snippet(:q, '»', '«', s.label, s.body, s.related) as snippet,
       d.title as document, '/${database}/' || s.tbl || '/' || s.path as link, src.url as source_url
from best b
cross join site_search s on s.rowid = b.entry
join site_search_tables t on t.tbl = s.tbl
left join documents d on d.id = s.document
left join sources src on src.id = s.source
order by b.score, b.entry
