{{ config(meta={'dagster': {'ref': {'name': 'fct_loans'}}}) }}
-- Loans of one (borrower, lender, disbursement date) are versions of each other across deliveries:
-- the latest delivery that lists the key holds all of them in force (a bank may lend twice on one
-- day, latest_version's several_rows_per_key). Rows of one key from two deliveries would pay a
-- loan and its correction both.
select uscc, lender, disbursed_on, count(distinct source_file) as deliveries
from {{ ref('fct_loans') }}
group by uscc, lender, disbursed_on
having count(distinct source_file) > 1
