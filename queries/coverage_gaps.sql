-- title: Wat ontbreekt in de data / What is missing from the data
-- description: Delen van documenten waarvan de bronnen zeggen dat ze bestaan, maar die niet (of maar deels) in de data
--   staan, met de reden. — Parts of documents the sources say exist but that are not (or only partly) in the data, with
--   the reason.
-- labels_from: coverage_overview
select d.title as document, d.period_start as year, c.part_nl, c.part_en, c.status,
       c.explanation_nl, c.explanation_en, s.publisher as source_publisher, s.url as source_url
from coverage c
join documents d on d.id = c.document_id
join sources s on s.id = c.source_id
where c.status <> 'opgenomen'
order by d.period_start desc, d.id, c.status desc, c.id
