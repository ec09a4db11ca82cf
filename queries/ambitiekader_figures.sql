-- title: Kerncijfers uit het Ambitiekader 2024-2027 / Key figures of the Ambitiekader 2024-2027
-- description: 'De cijfers over de gemeente die het Ambitiekader volkshuisvesting 2024-2027 noemt, met hoe de bron ze
--   geeft (meer dan, minstens). Andere bronnen noemen soms andere getallen: zie de verschillen. — The figures about
--   the municipality that the Ambitiekader gives, with how the source states them (more than, at least). Other sources
--   sometimes give other numbers: see the discrepancies.'
-- labels:
--   qualifier_words: Bepaling in woorden
--   label: Omschrijving
select indicator, indicator_en, qualifier, qualifier_words,
       qualifier_words || value || ' ' || unit as label,
       value, unit, area, source_publisher, source_url
from (
  -- the qualifier's code is its Dutch words (meer_dan: meer dan); exact needs none
  select *, case when qualifier = 'exact' then '' else replace(qualifier, '_', ' ') || ' ' end as qualifier_words
  from specifications_overview
  where municipality = 'Het Hogeland' and document_kind = 'ambitiekader' and document_year = 2024
)
order by unit, value desc
