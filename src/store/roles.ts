/** The role tenant work runs as: no superuser, no BYPASSRLS, owns nothing; RLS applies. */
export const APP_ROLE = 'agentflow_app';
/** The role cross-tenant maintenance runs as; its access comes from explicit service policies. */
export const SERVICE_ROLE = 'agentflow_service';
