-- title: Welke delen van de afspraken ontbreken, per gemeente / Which parts of the agreements are missing, per municipality
-- description: Per gemeente de delen van documenten waarvan de bronnen zeggen dat ze bestaan, maar die niet of maar
--   deels in de data staan, met de reden en de bron. Vul een gemeente in of laat leeg voor alle. — Per municipality
--   the parts of documents the sources say exist but that are not, or only partly, in the data, with the reason and
--   the source. Enter a municipality or leave empty for all.
-- params:
-- - municipality
-- labels_from: coverage_overview
with missing as not materialized (
  select municipality, year, document, part_nl, part_en, status, explanation_nl, explanation_en,
         source_publisher, source_date, source_url, coverage_id, document_id
  from agg_missing_parts
)
select municipality, year, document, part_nl, part_en, status, explanation_nl, explanation_en,
       source_publisher, source_date, source_url, coverage_id
from (
  -- Two ways in, each reading an index in the order asked: every municipality, or the one asked for.
  select * from missing where :municipality = ''
  union all
  select * from missing where :municipality <> '' and ${municipality_matches}
  order by municipality, year desc, document_id, status desc, coverage_id
)
