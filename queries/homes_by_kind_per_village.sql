-- title: Woningen per soort werk en per dorp / Homes by kind of work per village
-- description: 'Per dorp en per project de aantallen woningen per soort werk (een kolom per soort),
--   met corporatie, stand en bron. Noemen bronnen andere aantallen, dan staat elke versie op een eigen regel. Een leeg
--   vak betekent: geen aantal in de bron (niet nul). De lijst is onvolledig. Vul een dorp in (bijv. kantens) of laat
--   leeg voor alle dorpen. — Per village and per project the numbers of homes for demolition, new build, renovation,
--   strengthening and sustainability work, with corporation, status and source. Where sources give different numbers,
--   each version has its own line. An empty cell means: no number in the source (not zero). The list is partial. Enter
--   a village (e.g. kantens) or leave empty for all villages.'
-- params:
-- - place
-- labels:
--   village: Dorp
--   project: Project
--   demolished: Gesloopt
--   new_build: Nieuwbouw
--   renovated: Gerenoveerd
--   strengthened: Versterkt
--   sustainability: Verduurzaamd
--   status_per_kind: Stand per soort
--   part_of: Deel van
select coalesce(pl.name, p.area_as_stated) as village, coalesce(pl.municipality, 'meer dorpen / several villages') as municipality,
       case when pl.in_het_hogeland = 0 then 'buiten Het Hogeland / outside Het Hogeland'
            when max(exists (select 1 from project_places pp join places q on q.id = pp.place_id
                             where pp.project_id = p.id and q.in_het_hogeland = 0)) = 1
              then 'deels buiten Het Hogeland / partly outside Het Hogeland'
            else '' end as outside_het_hogeland,
       p.name as project, c.name as corporation,
       sum(case when p.kind = 'sloop' then p.homes end) as demolished,
       sum(case when p.kind = 'nieuwbouw' then p.homes end) as new_build,
       sum(case when p.kind = 'renovatie' then p.homes end) as renovated,
       sum(case when p.kind = 'versterking' then p.homes end) as strengthened,
       sum(case when p.kind = 'verduurzaming' then p.homes end) as sustainability,
       group_concat(p.kind || ': ' || p.status || coalesce(' (' || p.status_date || ')', ''), '; ') as status_per_kind,
       max(p.part_of_id) as part_of,
       s.publisher as source_publisher, s.published_on as source_date, s.url as source_url,
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
