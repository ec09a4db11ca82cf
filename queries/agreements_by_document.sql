-- title: Afspraken van een document, per thema in top-3-volgorde / Agreements of a document by theme, top-3 first
-- description: Alle afspraken van één document (vul de sleutel in, bijv. hh-pa-2024, of een jaar, bijv. 2024), gesorteerd
--   op de rang van het thema in de top-3; afspraken zonder thema gelden voor alle thema's. — All agreements of one document
--   (enter its key, e.g. hh-pa-2024, or a year, e.g. 2024), ordered by the theme's top-3 rank; agreements without a
--   theme concern all themes.
-- params:
-- - document
-- labels_from: agreements_overview
with agreement as not materialized (
  select a.document, a.year, coalesce(a.theme, '(alle thema''s / all themes)') as theme, a.theme_rank,
         a.kind, a.title_nl, a.summary_nl, a.title_en, a.summary_en, a.responsible_as_stated,
         a.section, a.source_publisher, a.source_date, a.source_url, a.agreement_id,
         a.document_id, a.theme_rank is null as unranked, a.theme as theme_name
  from agreements_overview a
)
select document, year, theme, theme_rank, kind, title_nl, summary_nl, title_en, summary_en, responsible_as_stated,
       section, source_publisher, source_date, source_url, agreement_id
from (
  -- Nothing: every document in order, newest first, each with its agreements. A year: that year's documents
  -- through the index on their year. A key: that document's agreements through the index on document_id.
  select * from agreement where :document = ''
  union all
  select * from agreement where year = cast(:document as integer) and cast(year as text) = :document
  union all
  select * from agreement where document_id = :document and cast(year as text) <> :document
  order by year desc, document_id, unranked, theme_rank, theme_name, agreement_id
)
