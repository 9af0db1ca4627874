<?php
// Must-use plugin of the WordPress test sites: the site that runs with
// KEYWARD_WP_PLAIN_PERMALINKS=1 has plain permalinks (no /wp-json/; the REST API only at
// ?rest_route=), like a fresh site on a server without URL rewriting.
if (getenv('KEYWARD_WP_PLAIN_PERMALINKS')) {
    add_filter('pre_option_permalink_structure', '__return_empty_string');
}
