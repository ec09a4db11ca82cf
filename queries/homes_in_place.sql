-- title: Hoeveel woningen gesloopt en gebouwd in een dorp, door wie en volgens wie / Homes demolished and built in a
--   village, by whom and according to whom
-- description: 'Vul een dorp in (bijv. Uithuizen; leeg = alle dorpen). Per project en per bron: de corporatie, de aantallen
--   per soort werk, de stand met datum per soort, en uitgever, datum en adres van de bron. Staan er twee regels voor
--   één project, dan verschillen de bronnen; tel ze niet op. Een leeg aantal is onbekend, niet nul. — Enter a village
--   (e.g. Uithuizen; empty = all villages). Per project and per source: the corporation, the numbers per kind of work,
--   the status with date per kind, and publisher, date and address of the source. Two lines for one project mean the
--   sources differ; do not add them up. An empty number is unknown, not zero.'
-- params:
-- - place
-- labels:
--   village: Dorp
--   project: Project
--   kinds: Soorten werk
--   demolished: Gesloopt
--   new_build: Nieuwbouw
--   renovated: Gerenoveerd
--   strengthened: Versterkt
--   sustainability: Verduurzaamd
--   status_per_kind: Stand per soort
--   part_of: Deel van
select coalesce(pl.name, p.area_as_stated) as village, p.name as project, c.name as corporation,
       group_concat(distinct p.kind) as kinds,
       sum(case when p.kind = 'sloop' then p.homes end) as demolished,
       sum(case when p.kind = 'nieuwbouw' then p.homes end) as new_build,
       sum(case when p.kind = 'renovatie' then p.homes end) as renovated,
       sum(case when p.kind = 'versterking' then p.homes end) as strengthened,
       sum(case when p.kind = 'verduurzaming' then p.homes end) as sustainability,
       group_concat(p.kind || ': ' || p.status || coalesce(' (' || p.status_date || ')', ''), '; ') as status_per_kind,
       max(p.status_date) as latest_status_date,
       case when max(p.part_of_id) is null then '' else 'deel van een ander project / part of another project' end as part_of,
       s.publisher as source_publisher, s.published_on as source_date, s.title as source_title, s.url as source_url,
       p.project_key, p.source_id
from projects p
left join places pl on pl.id = p.place_id
join partners c on c.id = p.partner_id
join sources s on s.id = p.source_id
where :place = '' or lower(pl.id) = lower(:place) or lower(pl.name) = lower(:place)
   or exists (select 1 from project_places pp join places q on q.id = pp.place_id
              where pp.project_id = p.id and (lower(q.id) = lower(:place) or lower(q.name) = lower(:place)))
group by p.project_key, p.source_id
order by village, project, s.published_on
