<!-- title: Sở Tư pháp tỉnh Quảng Bình - Trang chủ -->
<h2>TIN HOẠT ĐỘNG</h2>
<ul class="dfwp-list">
  <li><a href="/Pages/TinTuc/trien-khai-luat-ho-tich.aspx">Triển khai thi hành Luật Hộ tịch từ ngày 01/01/2016</a> <span>{{days_ago:4:long}}</span></li>
  <li><a href="/Pages/TinTuc/tro-giup-phap-ly-luu-dong.aspx">Trợ giúp pháp lý lưu động tại xã Trọng Hóa, huyện Minh Hóa</a> <span>{{days_ago:11:long}}</span></li>
</ul>
<div class="search-box"><input name="k" title="Tìm kiếm"><a href="/Pages/tim-kiem.aspx">Tìm kiếm</a></div>
