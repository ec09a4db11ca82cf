-- title: Wat ontbreekt in de data / What is missing from the data
-- description: Delen van documenten waarvan de bronnen zeggen dat ze bestaan, maar die niet (of maar deels) in de data
--   staan, met de reden. — Parts of documents the sources say exist but that are not (or only partly) in the data, with
--   the reason.
-- labels_from: coverage_overview
select document, year, part_nl, part_en, status, explanation_nl, explanation_en, source_publisher, source_url
from agg_missing_parts
order by year desc, document_id, status desc, coverage_id
