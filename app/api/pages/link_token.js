// The token of an emailed link, for the pages those links open.
// It travels in the URL fragment, which never reaches a server's access log; links sent
// before carried it in the query. Either way it is taken off the address bar at once.
export const linkToken = () => {
  const found = new URLSearchParams(location.hash.slice(1)).get("token")
    || new URLSearchParams(location.search).get("token");
  if (found) history.replaceState(null, "", location.pathname);
  return found;
};
