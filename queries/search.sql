-- title: Zoeken in afspraken, documenten, thema's en partners / Search agreements, documents, themes and partners
-- description: Zoekt in de tekst van afspraken, documenten, thema's en partners. Accenten tellen niet mee (geinformeerd
--   vindt geïnformeerd) en een woord mag een begin zijn (huurder vindt huurders). — Searches the text of agreements,
--   documents, themes and partners. Accents are ignored and a word may be a prefix.
-- params:
-- - q
-- labels:
--   kind: Soort
--   snippet: Fragment
--   link: Link
select kind, title, snippet, document, link, source_url from (
  -- The best 200 hits of each table first, so snippet() runs for those only (the answer's 200 are among them).
  select 'afspraak / agreement' as kind, a.title_nl as title,
         snippet(agreements_fts, -1, '»', '«', '…', 16) as snippet, d.title as document,
         '/${database}/agreements/' || a.id as link, s.url as source_url,
         bm25(agreements_fts) as score
  from agreements_fts
  join agreements a on a.rowid = agreements_fts.rowid
  join documents d on d.id = a.document_id
  join sources s on s.id = a.source_id
  where agreements_fts match fts_query(:q) and agreements_fts.rowid in (
    select rowid from agreements_fts where agreements_fts match fts_query(:q) order by rank limit 200)
  union all
  select 'document', d.title, snippet(documents_fts, -1, '»', '«', '…', 16), d.title,
         '/${database}/documents/' || d.id, s.url, bm25(documents_fts)
  from documents_fts
  join documents d on d.rowid = documents_fts.rowid
  join sources s on s.id = d.source_id
  where documents_fts match fts_query(:q) and documents_fts.rowid in (
    select rowid from documents_fts where documents_fts match fts_query(:q) order by rank limit 200)
  union all
  select 'thema / theme', t.name_nl, snippet(themes_fts, -1, '»', '«', '…', 16), d.title,
         '/${database}/themes/' || t.id, s.url, bm25(themes_fts)
  from themes_fts
  join themes t on t.rowid = themes_fts.rowid
  join documents d on d.id = t.document_id
  join sources s on s.id = t.source_id
  where themes_fts match fts_query(:q) and themes_fts.rowid in (
    select rowid from themes_fts where themes_fts match fts_query(:q) order by rank limit 200)
  union all
  select 'partner', p.name, snippet(partners_fts, -1, '»', '«', '…', 16), null,
         '/${database}/partners/' || p.id, s.url, bm25(partners_fts)
  from partners_fts
  join partners p on p.rowid = partners_fts.rowid
  join sources s on s.id = p.source_id
  where partners_fts match fts_query(:q) and partners_fts.rowid in (
    select rowid from partners_fts where partners_fts match fts_query(:q) order by rank limit 200)
)
order by score
limit 200
