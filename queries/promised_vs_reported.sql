-- title: Afgesproken tegenover gemeld / Promised versus reported
-- description: 'Per soort werk het afgesproken aantal (sloop 547 en nieuwbouw 620 in 2022-2026, afspraken 2022) naast
--   de woningen in de projectrijen, gepland en opgeleverd, met de laatste datum van een stand. De projectlijst is onvolledig:
--   het oordeel is daarom altijd ''onvoldoende gegevens om te beoordelen''. — Per kind of work the agreed number (demolition
--   547 and new build 620 in 2022-2026, 2022 agreements) next to the homes in the project rows, planned and delivered,
--   with the latest status date. The project list is partial, so the judgement is always ''insufficient data to judge''.'
-- labels_from: progress_against_agreements
select kind, promised_homes, promised_period, planned_low, planned_high, delivered_low, delivered_high,
       status_unknown_high, projects, projects_without_number, latest_status_date, judgement_nl, judgement_en,
       coalesce(promised_source_publisher || '; ', '') || 'projecten: ' || project_publishers as source_publisher,
       promised_source_date as source_date, promised_source_url as source_url
from agg_progress_against_agreements g
