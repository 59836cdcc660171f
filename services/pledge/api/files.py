"""Evidence files of progress reports and follow-ups (issue 19): upload, then attach by hash;
served to whoever may see the item (a published item's, to everyone: the public board)."""

from services.pledge.queries import may_see_file
from shared.files_api import file_router

router = file_router(may_see_file)
