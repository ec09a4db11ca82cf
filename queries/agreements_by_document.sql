-- title: Afspraken van een document, per thema in top-3-volgorde / Agreements of a document by theme, top-3 first
-- description: Alle afspraken van één document (vul de sleutel in, bijv. hh-pa-2024, of een jaar, bijv. 2024), gesorteerd
--   op de rang van het thema in de top-3; afspraken zonder thema gelden voor alle thema's. — All agreements of one document
--   (enter its key, e.g. hh-pa-2024, or a year, e.g. 2024), ordered by the theme's top-3 rank; agreements without a
--   theme concern all themes.
-- params:
-- - document
-- labels_from: agreements_overview
select a.document, a.year, coalesce(a.theme, '(alle thema''s / all themes)') as theme, a.theme_rank,
       a.kind, a.title_nl, a.summary_nl, a.title_en, a.summary_en, a.responsible_as_stated,
       a.section, a.source_publisher, a.source_date, a.source_url, a.agreement_id
from agreements_overview a
where :document = '' or a.document_id = :document or cast(a.year as text) = :document
order by a.year desc, a.document_id, a.theme_rank is null, a.theme_rank, a.theme, a.agreement_id
