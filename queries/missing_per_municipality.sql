-- title: Welke delen van de afspraken ontbreken, per gemeente / Which parts of the agreements are missing, per municipality
-- description: Per gemeente de delen van documenten waarvan de bronnen zeggen dat ze bestaan, maar die niet of maar
--   deels in de data staan, met de reden en de bron. Vul een gemeente in of laat leeg voor alle. — Per municipality
--   the parts of documents the sources say exist but that are not, or only partly, in the data, with the reason and
--   the source. Enter a municipality or leave empty for all.
-- params:
-- - municipality
-- labels_from: coverage_overview
select d.municipality, d.period_start as year, d.title as document, c.part_nl, c.part_en, c.status,
       c.explanation_nl, c.explanation_en,
       s.publisher as source_publisher, s.published_on as source_date, s.url as source_url,
       c.id as coverage_id
from coverage c
join documents d on d.id = c.document_id
join sources s on s.id = c.source_id
where c.status <> 'opgenomen'
  and (:municipality = '' or lower(d.municipality) = lower(:municipality))
order by d.municipality, d.period_start desc, d.id, c.status desc, c.id
