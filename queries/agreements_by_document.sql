-- title: Afspraken van een document, per thema in top-3-volgorde / Agreements of a document by theme, top-3 first
-- description: Alle afspraken van één document (vul de sleutel in, bijv. hh-pa-2024, of een jaar, bijv. 2024), gesorteerd
--   op de rang van het thema in de top-3; afspraken zonder thema gelden voor alle thema's. — All agreements of one document
--   (enter its key, e.g. hh-pa-2024, or a year, e.g. 2024), ordered by the theme's top-3 rank; agreements without a
--   theme concern all themes.
-- params:
-- - document
-- labels_from: agreements_overview
select d.title as document, d.period_start as year,
       coalesce(t.name_nl, '(alle thema''s / all themes)') as theme, t.priority_rank as theme_rank,
       a.kind, a.title_nl, a.summary_nl, a.title_en, a.summary_en, a.responsible_as_stated,
       a.section, s.publisher as source_publisher, s.published_on as source_date, s.url as source_url,
       a.id as agreement_id
from agreements a
join documents d on d.id = a.document_id
left join themes t on t.id = a.theme_id
join sources s on s.id = a.source_id
where :document = '' or d.id = :document or cast(d.period_start as text) = :document
order by d.period_start desc, d.id, t.priority_rank is null, t.priority_rank, t.name_nl, a.id
