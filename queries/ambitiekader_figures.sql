-- title: Kerncijfers uit het Ambitiekader 2024-2027 / Key figures of the Ambitiekader 2024-2027
-- description: 'De cijfers over de gemeente die het Ambitiekader volkshuisvesting 2024-2027 noemt, met hoe de bron ze
--   geeft (meer dan, minstens). Andere bronnen noemen soms andere getallen: zie de verschillen. — The figures about
--   the municipality that the Ambitiekader gives, with how the source states them (more than, at least). Other sources
--   sometimes give other numbers: see the discrepancies.'
-- labels:
--   label: Omschrijving
select sp.indicator, sp.indicator_en, sp.qualifier,
       case sp.qualifier when 'meer_dan' then 'meer dan ' when 'minstens' then 'minstens '
            when 'ongeveer' then 'ongeveer ' when 'bijna' then 'bijna ' else '' end
         || sp.value || ' ' || sp.unit as label,
       sp.value, sp.unit, sp.area, s.publisher as source_publisher, s.url as source_url
from specifications sp
join documents d on d.id = sp.document_id
join sources s on s.id = sp.source_id
where d.municipality = 'Het Hogeland' and d.kind = 'ambitiekader' and d.period_start = 2024
order by sp.unit, sp.value desc
