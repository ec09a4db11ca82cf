-- title: Kerncijfers uit het Ambitiekader 2024-2027 / Key figures of the Ambitiekader 2024-2027
-- description: 'De cijfers over de gemeente die het Ambitiekader volkshuisvesting 2024-2027 noemt, met hoe de bron ze
--   geeft (meer dan, minstens). Andere bronnen noemen soms andere getallen: zie de verschillen. — The figures about
--   the municipality that the Ambitiekader gives, with how the source states them (more than, at least). Other sources
--   sometimes give other numbers: see the discrepancies.'
-- labels:
--   label: Omschrijving
select indicator, indicator_en, qualifier,
       case qualifier when 'meer_dan' then 'meer dan ' when 'minstens' then 'minstens '
            when 'ongeveer' then 'ongeveer ' when 'bijna' then 'bijna ' else '' end
         || value || ' ' || unit as label,
       value, unit, area, source_publisher, source_url
from specifications_overview
where municipality = 'Het Hogeland' and document_kind = 'ambitiekader' and document_year = 2024
order by unit, value desc
