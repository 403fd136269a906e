"""Outgoing directives: drafting, approval, numbering, Word files, distribution and feedback.

The package's modules, in the order a directive meets them:

==================  ==============================================================================================
``kinds``           the built-in types (通知 … oficio, resolución) and the drafting rules a machine can check
``content``         `Content`: what a Word file shows; the body syntax (headings 一、（一）1.（1）, points, tables)
``drafts``          the draft's fields, who may see and edit it, its warnings, its history steps
``flow``            submit -> review (核稿) -> countersign (会签) -> sign off (签发) -> re-check (复核), send back
``issuing``         register (the number, the Word file), issue (distribution), feedback, chasing replies
``render``          draw a directive: ``wordgb`` (GB/T 9704), ``wordes`` (Spanish), ``placeholders`` (uploads)
``office_templates`` the administrator's uploaded templates
``pdf``             PDF export through LibreOffice, when installed
==================  ==============================================================================================
"""
