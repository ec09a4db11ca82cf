-- The columns that cite a row's source, for SQL that joins `sources` as `s`: the source's title, publisher,
-- publication date and web address.
s.title as source_title, s.publisher as source_publisher, s.published_on as source_date, s.url as source_url
