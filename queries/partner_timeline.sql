-- title: 'Partners in de tijd: fusies, opheffingen, opvolgers / Partner timeline'
-- description: Corporaties, huurdersorganisaties en samenwerkingsverbanden met begin, einde, reden, opvolger, voorgangers
--   en wie wiens huurders vertegenwoordigt. Lege datums zijn onbekend. — Corporations, tenant organisations and umbrella
--   bodies with start, end, reason, successor, predecessors and who represents whose tenants. Empty dates are unknown.
-- labels_from: partners_overview
-- labels:
--   predecessors: Voorgangers
--   represents_tenants_of: Vertegenwoordigt huurders van
--   tenants_represented_by: Huurders vertegenwoordigd door
select p.name, p.kind, p.started_on, p.ended_on, p.end_reason, p.successor,
       (select group_concat(q.name, '; ') from partners q where q.successor_id = p.partner_id) as predecessors,
       p.represents as represents_tenants_of,
       (select group_concat(q.name, '; ') from partners q where q.represents_id = p.partner_id) as tenants_represented_by,
       p.notes, p.source_publisher, p.source_url, p.partner_id
from partners_overview p
where p.kind in ('woningcorporatie', 'huurdersorganisatie', 'samenwerkingsverband')
order by p.kind, coalesce(p.ended_on, p.started_on, '9999'), p.name
