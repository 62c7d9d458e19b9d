-- Keep a case's row, search_tsv included, in the table itself up to 4 KB
-- instead of moving search_tsv (about 1.3 KB for a typical request) out to
-- the TOAST table once a row passes 2 KB: a search tests search_tsv row by
-- row, and fetching it from TOAST made that three times slower. Applies to
-- rows written from now on (a load writes them all); VACUUM FULL cases
-- rewrites older ones.
ALTER TABLE cases SET (toast_tuple_target = 4080);
