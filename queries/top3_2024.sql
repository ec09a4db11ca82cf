-- title: Top-3 van de prestatieafspraken 2024 / The 2024 top-3
-- description: De zes thema's van de afspraken 2024 met hun plaats in de top-3 die de partners op de startbijeenkomst
--   kozen. — The six themes of the 2024 agreements with their place in the top-3 the partners chose at the kick-off
--   meeting.
-- labels:
--   rank: Rang
--   label: Omschrijving
select rank, theme, theme_en, label, source_publisher, source_date, source_url
from themes_overview
where municipality = 'Het Hogeland' and document_kind = 'prestatieafspraken'
  and year <= 2024 and coalesce(year_end, year) >= 2024
order by rank is null, rank, theme
